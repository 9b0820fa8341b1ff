/* placeholder until api/ lands */
void srv_placeholder(void);
void
srv_placeholder(void)
{
}
