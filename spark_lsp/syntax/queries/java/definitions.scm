(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class

(interface_declaration name: (identifier) @name body: (interface_body) @body) @definition.class

(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.class

(record_declaration name: (identifier) @name body: (class_body) @body) @definition.class

(method_declaration name: (identifier) @name body: (block) @body) @definition.function

(method_declaration name: (identifier) @name !body) @definition.function

(constructor_declaration name: (identifier) @name body: (constructor_body) @body) @definition.function

(field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.variable

(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.variable
