(class_specifier name: (_) @name body: (field_declaration_list) @body) @definition.class

(struct_specifier name: (_) @name body: (field_declaration_list) @body) @definition.class

(namespace_definition name: (_) @name body: (declaration_list) @body) @definition.module

(function_definition
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (reference_declarator (function_declarator declarator: (_) @name))
  ]
  body: (compound_statement) @body) @definition.function

(declaration
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  ]) @definition.function

(field_declaration
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  ]) @definition.function

(field_declaration declarator: (field_identifier) @name) @definition.variable

(union_specifier name: (type_identifier) @name body: (field_declaration_list)) @definition.type

(enum_specifier name: (type_identifier) @name body: (enumerator_list)) @definition.type

(type_definition declarator: (type_identifier) @name) @definition.type

(alias_declaration name: (type_identifier) @name) @definition.type

(preproc_def name: (identifier) @name) @definition.macro

(preproc_function_def name: (identifier) @name) @definition.macro

(declaration declarator: (init_declarator declarator: (identifier) @name)) @definition.variable
