"""The ways in besides Python's `Assistant`: the command line (`cli`), a LangChain retriever
(`langchain`), and what the browser chat runs on: `service` (readiness, one writer), `corpus`
(uploads and removals with rollback) and `render` (escaped HTML and API dicts)."""
