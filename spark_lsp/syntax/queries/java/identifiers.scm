(identifier) @identifier
(type_identifier) @identifier
