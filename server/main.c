/*
 * warden: an internal certificate authority. The CLI in srv_cli.c turns
 * the command line into init, serve or version.
 */
#include "srv.h"

int
main(int argc, char **argv)
{
    return srv_cli_main(argc, argv);
}
