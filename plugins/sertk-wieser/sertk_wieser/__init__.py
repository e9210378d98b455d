"""sertk-wieser: the ELoR, LoM, FTR and ELoR+FTR networks of Wieser et al. (2020)
and their saliency and activation-maximisation analyses, as a sertk plugin."""

__version__ = "0.1.0"
