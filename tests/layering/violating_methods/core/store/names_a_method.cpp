// Fixture: compares a method name outside the methods' folders.
bool f(const char* m) { return std::string(m) == "guilomo"; }
