(identifier) @identifier
(field_identifier) @identifier
(type_identifier) @identifier
