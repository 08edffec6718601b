(use_declaration argument: (identifier) @name) @import

(use_declaration argument: (scoped_identifier path: (_) @module name: (identifier) @name)) @import

(use_declaration argument: (use_as_clause path: (_) @name alias: (identifier) @alias)) @import

(use_declaration argument: (scoped_use_list path: (_) @module list: (use_list (identifier) @name))) @import

(use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list (use_as_clause path: (_) @name alias: (identifier) @alias)))) @import

(use_declaration argument: (use_wildcard (_) @module) @wildcard) @import
