"""sertk-lakomkin: reusing neural speech representations for emotion recognition.

E. Lakomkin, C. Weber, S. Magg, S. Wermter, "Reusing Neural Speech
Representations for Auditory Emotion Recognition", Proceedings of the Eighth
International Joint Conference on Natural Language Processing (IJCNLP 2017),
pp. 423–430. arXiv:1803.11508.
"""

__version__ = "0.1.0"
