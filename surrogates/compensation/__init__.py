"""Thermal-error compensation by transfer learning (paper 001): CSV data path, mutual-information
selection of temperature-sensitive points, the 415-parameter BiLSTM, structural expansion,
freezing schemes, training-condition sets, vectorised factorial training and Type II ANOVA."""
