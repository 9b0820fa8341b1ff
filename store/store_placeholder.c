/* placeholder, removed when the module lands */
void store_placeholder(void);
void
store_placeholder(void)
{
}
