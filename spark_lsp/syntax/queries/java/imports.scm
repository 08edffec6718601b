(import_declaration (scoped_identifier name: (identifier) @name) @module) @import

(import_declaration (scoped_identifier) @module (asterisk) @wildcard) @import
