"""The default rule pack (data only): workstation infrastructure rules, one YAML file per domain."""
