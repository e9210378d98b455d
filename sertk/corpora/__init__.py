"""The built-in corpora, each in its own distribution layout (see docs/corpora.md); registered by
``sertk.builtins.plugin``."""
