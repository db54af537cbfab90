package dev.octet.data.arithmetic;

/** One arithmetic step of a word problem, as the worked answer writes it: {@code 17 + 25 = 42.} */
public enum Operation {
    ADD("+"), SUBTRACT("-"), MULTIPLY("*");

    private final String symbol;

    Operation(String symbol) {
        this.symbol = symbol;
    }

    public String symbol() {
        return symbol;
    }

    public int apply(int left, int right) {
        return switch (this) {
            case ADD -> left + right;
            case SUBTRACT -> left - right;
            case MULTIPLY -> left * right;
        };
    }
}
