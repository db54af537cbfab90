grammar Octet;
file : EOF ;
WS : [ \t\r\n]+ -> skip ;
