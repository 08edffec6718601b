(class_declaration name: (_) @name body: (class_body) @body) @definition.class

(function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function

(generator_function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function

(method_definition name: (_) @name body: (statement_block) @body) @definition.function

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]) @definition.function

(lexical_declaration (variable_declarator name: (identifier) @name)) @definition.variable

(variable_declaration (variable_declarator name: (identifier) @name)) @definition.variable

(field_definition property: (property_identifier) @name) @definition.variable

(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @name)) @definition.attribute
