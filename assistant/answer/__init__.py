"""Passages to a cited answer: `answering.ask` retrieves, asks the trained answer model
(`model`) to score the candidate sentences (`extractive`), abstains below the threshold, or lets
a configured language model write (`generation`, checked against its citations). `types` holds
`Answer` and `Citation`, `prompts` the fixed phrases, `followup` the conversation."""
