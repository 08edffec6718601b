(function_declaration name: (identifier) @name body: (block) @body) @definition.function

(method_declaration name: (field_identifier) @name body: (block) @body) @definition.function

(type_spec name: (type_identifier) @name) @definition.type

(type_alias name: (type_identifier) @name) @definition.type

(const_spec name: (identifier) @name) @definition.variable

(var_spec name: (identifier) @name) @definition.variable
