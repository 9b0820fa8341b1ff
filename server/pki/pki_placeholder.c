/* placeholder, removed when the module lands */
void pki_placeholder(void);
void
pki_placeholder(void)
{
}
