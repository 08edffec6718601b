(class_declaration name: (_) @name body: (class_body) @body) @definition.class

(abstract_class_declaration name: (_) @name body: (class_body) @body) @definition.class

(interface_declaration name: (_) @name body: (interface_body) @body) @definition.class

(internal_module name: (_) @name body: (statement_block) @body) @definition.module

(function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function

(generator_function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function

(function_signature name: (identifier) @name) @definition.function

(method_definition name: (_) @name body: (statement_block) @body) @definition.function

(method_signature name: (_) @name) @definition.function

(abstract_method_signature name: (_) @name) @definition.function

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]) @definition.function

(type_alias_declaration name: (_) @name) @definition.type

(enum_declaration name: (_) @name) @definition.type

(lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable

(variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable

(public_field_definition name: (_) @name) @definition.variable

(property_signature name: (_) @name) @definition.variable

(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @name)) @definition.attribute
