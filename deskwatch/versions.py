"""The engine versions deskwatch runs against, pinned in one place.

The local stack, docker-compose.yml and the test fixtures all read these; a test checks that
docker-compose.yml names the same versions.
"""

KAFKA_VERSION = "4.1.2"
KAFKA_SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.3"
ELASTICSEARCH_VERSION = "8.19.21"
KIBANA_VERSION = ELASTICSEARCH_VERSION
PYTHON_VERSION = "3.11"  # the Dockerfile's base image; pyproject's requires-python agrees
