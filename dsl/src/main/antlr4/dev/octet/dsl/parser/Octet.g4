// The Octet language: one small syntax for models, FP8 recipes and training settings.
// A file is a list of imports and blocks; a block is a kind, an optional name, an optional
// `for` target, and a body of settings (`key = value`) and nested blocks. What each block kind
// may contain is checked by the semantic analysis, which gives better messages than a grammar could.
grammar Octet;

file        : (importDecl | block)* EOF ;
importDecl  : IMPORT STRING ';'? ;
block       : kind=ID label? (FOR target=ID)? '{' item* '}' ;
label       : ID | INT ;
item        : (block | assignment) ';'? ;
assignment  : ID '=' expr ;

expr        : expr '+' expr                               # addExpr
            | ID '(' (arg (',' arg)*)? ')'                 # callExpr
            | ID '[' index ']'                            # indexExpr
            | '[' (expr (',' expr)*)? ']'                 # listExpr
            | '(' expr ')'                                # parenExpr
            | number                                      # numberExpr
            | STRING                                      # stringExpr
            | ID                                          # nameExpr
            ;
arg         : (ID '=')? expr ;
index       : lo=signedInt ('..' hi=signedInt)? ;
signedInt   : '-'? INT ;
number      : '-'? (INT | FLOAT) ;

IMPORT      : 'import' ;
FOR         : 'for' ;
ID          : [a-zA-Z_] [a-zA-Z_0-9]* ;
INT         : DIGITS ;
FLOAT       : DIGITS '.' DIGITS EXPONENT? | DIGITS EXPONENT ;
fragment DIGITS   : [0-9] ('_'? [0-9])* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
STRING      : '"' (~["\\\r\n] | '\\' .)* '"' ;
LINE_COMMENT: ('#' | '//') ~[\r\n]* -> skip ;
WS          : [ \t\r\n]+ -> skip ;
// Any other character is a token of its own, so the parser reports it with a position.
ERROR_CHAR  : . ;
