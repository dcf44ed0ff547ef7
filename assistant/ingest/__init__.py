"""Files in, vectors out: load a document (`documents`), split it into sentences (`sentences`),
pack them into chunks with offsets (`chunking`), embed the sentences (`embeddings`), and keep a
store in step with the files (`indexing`: incremental add, rebuild with pruning, remove)."""
