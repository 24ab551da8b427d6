// Arrives with its issue; see README.md.
export {};
