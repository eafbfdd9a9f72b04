"""Schema revisions, oldest first: 0001 is the schema gouache 0.1 created."""
