"""From utterances to batches: segmenting (``segment``), feature extraction
(``extract``) with its on-disk cache (``cache``), normalisation (``normalize``)
and padded batching (``batching``, which needs torch)."""
