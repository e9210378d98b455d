"""sertk-zhao: the 1-D and 2-D CNN-LSTM networks of Zhao, Mao & Chen (2019).

J. Zhao, X. Mao, L. Chen, "Speech emotion recognition using deep 1D & 2D CNN
LSTM networks", Biomedical Signal Processing and Control 47 (2019) 312–323.
"""

__version__ = "0.1.0"
