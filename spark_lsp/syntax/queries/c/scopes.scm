(function_definition) @scope.function
(compound_statement) @scope.block
