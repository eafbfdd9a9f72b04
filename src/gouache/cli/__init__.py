"""The `gouache` command."""
