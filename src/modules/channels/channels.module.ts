import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from 'src/modules/audit/audit.module';
import { DepartmentsModule } from 'src/modules/departments/departments.module';
import { AppConfig } from 'src/config/app-config';
import { Channel } from 'src/modules/channels/channel.entity';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { CredentialsCipher } from 'src/modules/channels/credentials-cipher';

@Module({
  imports: [TypeOrmModule.forFeature([Channel]), AuditModule, DepartmentsModule],
  providers: [
    ChannelsService,
    {
      provide: CredentialsCipher,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new CredentialsCipher(c.credentialsKey),
    },
  ],
  exports: [ChannelsService, CredentialsCipher],
})
export class ChannelsModule {}
