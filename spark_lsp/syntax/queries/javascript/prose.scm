; Comments: rows of prose, not code.
(comment) @prose
