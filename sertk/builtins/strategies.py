"""Built-in training strategies."""
COMPONENTS: list = []
