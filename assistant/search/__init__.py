"""Questions to passages: BM25 over chunk texts (`lexical`) fused with dense sentence search into
ranked `Hit`s (`retrieval`)."""
