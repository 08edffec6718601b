(function_definition) @scope.function
(lambda_expression) @scope.function
(class_specifier) @scope.class
(struct_specifier) @scope.class
(namespace_definition) @scope.class
(compound_statement) @scope.block
(field_declaration_list) @scope.block
