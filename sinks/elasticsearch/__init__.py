"""The Elasticsearch sink: index templates, bulk writes with external versions, the consume loop."""
