"""deskwatch: an event-driven incident pipeline for a fleet of office workstations."""
