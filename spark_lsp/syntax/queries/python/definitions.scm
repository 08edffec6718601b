(class_definition name: (identifier) @name body: (block) @body) @definition.class

(function_definition name: (identifier) @name body: (block) @body) @definition.function

(expression_statement (assignment left: (identifier) @name)) @definition.variable

(assignment
  left: (attribute object: (identifier) @_self attribute: (identifier) @name)
  (#eq? @_self "self")) @definition.attribute
