"""The numeric wing: the only modules that import numpy.

- :mod:`.executor`: the fast forward pass of every kind (one function per kind in ``_FORWARD``);
- :mod:`.activations`: activations as Keras defines them;
- :mod:`.reference`: the naive loop reference the executor is compared with;
- :mod:`.verify`: ``verify(summary)``, real tensors against the formulas, within a memory cap.
"""
