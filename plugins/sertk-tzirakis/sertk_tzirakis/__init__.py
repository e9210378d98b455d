"""sertk-tzirakis: speech emotion recognition from semantic and paralinguistic information.

P. Tzirakis, A. Nguyen, S. Zafeiriou, B. W. Schuller, "Speech Emotion Recognition
using Semantic Information", ICASSP 2021 (arXiv 2103.02993): a semantic stream (Word2Vec,
Speech2Vec aligned into the Word2Vec space), a paralinguistic stream (a CNN on raw
audio), their fusion (concatenation or disentangled attention) and an LSTM.
"""

__version__ = "0.1.0"
