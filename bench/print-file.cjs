// The "read one file and print it" floor: what any Node program that answers from a file pays.
"use strict";
const fs = require("node:fs");

process.stdout.write(fs.readFileSync(process.argv[2], "utf8"));
