(import_statement
  (import_clause (identifier) @name)
  source: (string (string_fragment) @module)) @import

(import_statement
  (import_clause (named_imports (import_specifier name: (_) @name alias: (_) @alias)))
  source: (string (string_fragment) @module)) @import

(import_statement
  (import_clause (named_imports (import_specifier name: (_) @name !alias)))
  source: (string (string_fragment) @module)) @import

(import_statement
  (import_clause (namespace_import (identifier) @alias))
  source: (string (string_fragment) @module)) @import

(lexical_declaration
  (variable_declarator
    name: (identifier) @alias
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments (string (string_fragment) @module))))
  (#eq? @_require "require")) @import
