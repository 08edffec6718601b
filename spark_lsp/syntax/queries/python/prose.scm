; Comments and strings: a row that begins inside one (a docstring, the lines of a long string,
; a list of string literals) holds prose or data, not code.
(comment) @prose
(string) @prose
