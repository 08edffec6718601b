; Comments and strings: a row that begins inside one (the rows of a long string, a list of
; string literals) holds prose or data, not code.
(comment) @prose
(string) @prose
(template_string) @prose
