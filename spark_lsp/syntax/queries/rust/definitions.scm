(impl_item type: (_) @name body: (declaration_list) @body) @definition.class

(trait_item name: (type_identifier) @name body: (declaration_list) @body) @definition.class

(mod_item name: (identifier) @name body: (declaration_list) @body) @definition.module

(function_item name: (identifier) @name body: (block) @body) @definition.function

(function_signature_item name: (identifier) @name) @definition.function

(struct_item name: (type_identifier) @name) @definition.type

(enum_item name: (type_identifier) @name) @definition.type

(union_item name: (type_identifier) @name) @definition.type

(type_item name: (type_identifier) @name) @definition.type

(const_item name: (identifier) @name) @definition.variable

(static_item name: (identifier) @name) @definition.variable

(macro_definition name: (identifier) @name) @definition.macro
