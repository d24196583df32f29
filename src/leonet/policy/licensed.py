"""An indicative list of countries where Starlink service is licensed and offered.

Compiled from Starlink's public availability map and operators' announcements up to 2025-06
(ISO 3166-1 alpha-3). Licensing changes often and some entries are partial (maritime only,
business only, or a pilot); treat the list as a scenario input, not as a legal fact. Give
your own with ``ServicePolicy.active_only_in([...])`` or a scenario file's
``policy.licensed_countries``. Taiwan (TWN), China (CHN) and Russia (RUS) are not on it.
"""

LICENSED_AS_OF = "2025-06"

LICENSED_ISO3: frozenset[str] = frozenset(
    """
    USA CAN MEX PRI VIR GUM ASM MNP BHS BRB DOM JAM TTO HTI BLZ CRI PAN GTM HND SLV
    ATG DMA GRD KNA LCA VCT ABW CUW SXM MAF BLM GLP MTQ GUF TCA VGB CYM BMU AIA MSR
    BRA CHL COL ECU PER ARG URY PRY BOL GUY SUR
    GBR IRL FRA DEU ESP PRT ITA NLD BEL LUX AUT CHE LIE DNK NOR SWE FIN ISL POL CZE SVK
    HUN SVN HRV ROU BGR GRC CYP MLT EST LVA LTU UKR MDA MKD MNE ALB SRB BIH GEO ARM AZE
    MCO AND SMR FRO GRL
    JPN KOR PHL MYS IDN MNG AUS NZL FJI TON VUT WSM SLB KIR TUV NRU FSM PLW MHL PNG TLS
    LKA BTN BGD IND VNM KAZ KGZ YEM JOR ISR OMN QAT
    NGA KEN RWA MOZ MWI ZMB BEN SLE MDG BWA SWZ GHA ZWE SSD BDI TCD NER LSO LBR GNB STP
    COD COG CMR MRT DJI SOM SEN GMB CPV MUS SYC COM TGO
    """.split()
)
