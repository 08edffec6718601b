(function_item) @scope.function
(closure_expression) @scope.function
(impl_item) @scope.class
(trait_item) @scope.class
(mod_item) @scope.class
(block) @scope.block
(declaration_list) @scope.block
