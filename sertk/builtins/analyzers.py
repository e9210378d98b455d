"""Built-in analyzers. None ship with the core yet; paper plugins register theirs."""

COMPONENTS: list = []
