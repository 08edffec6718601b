; Comments: rows of prose, not code.
(line_comment) @prose
(block_comment) @prose
