/* placeholder until api/ lands */
void api_placeholder(void);
void
api_placeholder(void)
{
}
