"""The engine: training, prediction, validation splits, scoring and plots.

Submodules are imported where they are used, so that importing ``sertk.engine``
stays light (torch and matplotlib load only with the modules that need them).
"""
