"""sertk-mixedemotions: time-continuous emotion recognition from audio.

MixedEmotions (H2020-644632) deliverable D4.2, "Emotion Recognition from
Multilingual Audio Content, final version", chapters 4 (CCC as a training
objective; Weninger et al., IJCAI 2016) and 5 (end-to-end conv-recurrent
network; Trigeorgis et al., ICASSP 2016).
"""

__version__ = "0.1.0"
