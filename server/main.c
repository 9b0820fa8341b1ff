/* placeholder, replaced by the CLI */
#include <stdio.h>
int main(void);
int
main(void)
{
    puts("warden " WARDEN_VERSION);
    return 0;
}
